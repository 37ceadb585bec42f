from django.urls import path

from challenges import views
from challenges.views import progress

app_name = "challenges"

# One pattern per line, so other areas of the app can add theirs with a one-line edit.
urlpatterns = [
    # Levels, badges, notifications and leaderboards
    path("leaderboard/", progress.leaderboard, name="leaderboard"),
    path("groups/<int:pk>/leaderboard/", progress.group_leaderboard, name="group_leaderboard"),
    path("console/levels/", progress.levels, name="levels"),
    path("notifications/read/", progress.notifications_read, name="notifications_read"),
    # Advocates
    path("challenges/", views.challenge_list, name="list"),
    path("challenges/<int:pk>/", views.challenge_detail, name="detail"),
    path("challenges/<int:pk>/submit/", views.challenge_submit, name="submit"),
    path("challenges/submissions/<int:pk>/", views.submission_detail, name="submission"),
    # Managers
    path("console/challenges/", views.manage, name="manage"),
    path("console/challenges/new/", views.create, name="create"),
    path("console/challenges/<int:pk>/edit/", views.edit, name="edit"),
    path("console/challenges/<int:pk>/publish/", views.publish, name="publish"),
    path("console/challenges/<int:pk>/archive/", views.archive, name="archive"),
    path("console/review/", views.review, name="review"),
    path("console/review/<int:pk>/", views.review_decide, name="review_decide"),
    path("console/review/bulk/", views.review_bulk, name="review_bulk"),
    path("console/nps/", views.nps, name="nps"),
]
