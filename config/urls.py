from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from advocates import sso
from advocates import views as advocate_views
from api import v1 as api_v1
from core import metrics as core_metrics
from core import views as core_views

# The admin signs in through allauth (rate limits, no enumeration), not its own form:
# replacing the login method is allauth's documented way, which mypy refuses on principle.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = f"{settings.PROGRAM_NAME} administration"

urlpatterns = [
    path("", advocate_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", core_metrics.metrics, name="metrics"),
    # The company IdP's OpenID Connect callback, ahead of allauth's own for the same path:
    # it also checks the ID token's signature (advocates.sso.StaffOIDCAdapter).
    path(
        f"accounts/oidc/{settings.VOUCH_SSO_SLUG}/login/callback/",
        sso.oidc_callback,
        name="sso_oidc_callback",
    ),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("core.urls")),
    path("", include("advocates.urls")),
    path("", include("challenges.urls")),
    path("", include("discussions.urls")),
    path("", include("rewards.urls")),
    path("", include("references.urls")),
    path("", include("referrals.urls")),
    path("", include("campaigns.urls")),
    path("", include("console.urls")),
    path("", include("integrations.urls")),
    path("", include("api.urls")),
    path("api/v1/", api_v1.urls()),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
