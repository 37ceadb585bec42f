"""CSV imports of advocates and referrals (the management commands and the console's upload).

Every row is checked first; a bad row is reported with its line number and nothing is
imported from it. Referrals are idempotent by ``external_id``: importing a file again
updates stages through ``referral_advance`` (stale rows are ignored) instead of
duplicating, and new referrals pass the same checks as every other path.

**Set-wise, in chunks.** A file is read ``CHUNK_ROWS`` rows at a time, and each chunk is
one transaction with a handful of queries whatever its size: one lookup each of the
advocates, reps, accounts, companies and referrals it names, bulk inserts of what it
creates, and the ledger's ``points_award_many`` for the rewards of referrals that
arrive qualified or won (with ``pay_qualified``'s and ``pay_won``'s keys, so a later
import or CRM event never pays them again). Memory stays flat: only the chunk is held,
plus the file's external ids or emails seen so far (a repeated one is a bad row) and
the ids of the advocates touched. A row already imported that would change nothing
(same stage and amount, or stale) is recognised from the chunk's lookup, so importing
a file again calls no per-row service; a row that does change goes through
``referral_advance``.

**Same rules as one at a time** (``referrals.services``): the row checks and their
messages, self-referral refused, the 180-day duplicate rule (against the database and
the rows above in the same file: a duplicate is created rejected and linked to the
first), routing to the advocate's active owner rep. While a chunk writes it holds
``creation_lock`` exclusively, so a referral made live meanwhile waits and the chunk's
duplicate checks cannot miss it.

**What an import does not do.** The daily referral limit does not apply: it is an
anti-fraud brake on advocates submitting live, and a manager's file of historic
referrals may hold many a day for one advocate. Reps are not emailed (they already work
these referrals), and imported changes are not sent to the CRM webhook (the file comes
from the system of record). Progress (levels, badges, AMS) is refreshed once per
advocate touched, after the last chunk; the KPI cache is dropped once per chunk.
"""

from referrals.services.imports.advocates import advocates_import
from referrals.services.imports.common import (
    ADVOCATE_COLUMNS,
    CHUNK_ROWS,
    REFERRAL_COLUMNS,
    ImportReport,
    Progress,
)
from referrals.services.imports.pipeline import referrals_import

__all__ = [
    "ADVOCATE_COLUMNS",
    "CHUNK_ROWS",
    "REFERRAL_COLUMNS",
    "ImportReport",
    "Progress",
    "advocates_import",
    "referrals_import",
]
