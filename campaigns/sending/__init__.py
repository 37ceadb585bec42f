"""Sending campaigns: one message row per recipient, claimed by workers in batches.

Lifecycle of a campaign: draft/scheduled → ``campaign_start`` (``campaigns.services``;
status "sending": one ``CampaignMessage`` per recipient, created set-wise, then a few
batch tasks are enqueued) → workers run ``campaign_send_batch`` (``campaigns.tasks``)
until the queue is empty → "sent". A manager can pause (workers stop after the message
in hand), resume and cancel (pending rows are skipped). ``campaigns_dispatch_due`` (beat,
every minute) starts scheduled campaigns whose time has come and re-kicks sending
campaigns that stalled (a worker died, a task was lost).

Life of a message row::

    pending ──claim (batch, FOR UPDATE SKIP LOCKED)──▶ sending ──hand over (sent_at)──▶ sent
       ▲        └─▶ skipped (unsubscribed / fatigue / inactive)      │         (250 to ".")
       └──── SMTP error, attempts+1 (failed after MAX_ATTEMPTS) ◀────┘ (refused at "."

Exactly once, and where it can break (README, "Celery")
-------------------------------------------------------
1. *Claim.* A worker takes up to ``BATCH_SIZE`` rows that are pending, or "sending" with
   a claim older than ``CAMPAIGN_CLAIM_STALE_SECONDS`` (its worker died) and not handed
   over (``sent_at`` empty), with ``SELECT ... FOR UPDATE SKIP LOCKED``, applies the skip
   rules to the batch set-wise, and stamps the rest ``status=sending, claimed_at=<its own
   timestamp>``; then COMMITs. The timestamp is the claim's identity: a row re-claimed by
   another worker carries a new one.
2. *Send in groups, one short transaction per group* (group commit). The worker keeps
   ``CAMPAIGN_SMTP_CONNECTIONS`` (default 10) SMTP connections open and puts one message
   of the group on each, up to the end of its content — MAIL, RCPT, DATA and the body,
   everything except the final ``"."`` (each command goes out on every connection before
   any reply is read). Then, in ONE transaction, it locks the group's rows that are still
   "sending" with *its* claim while the campaign is still sending, stamps them
   ``sent_at`` ("handed over": from here on no claim takes them again) and COMMITs; only
   then it writes the ``".\r\n"`` of each of those messages, all of them before reading
   any reply; a row it did not win gets no "." (the server discards that message). Each
   message answered 250 becomes ``status=sent`` (one UPDATE for the group).
3. *A worker killed (SIGKILL) at any point*:
   - before the COMMIT of step 2: the rows are still "sending" with the dead claim and
     no ``sent_at``; the SMTP server got messages without their final ``"."`` (the
     connections die with the process), which it discards. The rows become re-claimable
     when the claim is stale and are sent once by the next worker.
   - after it: the rows are handed over, never claimed again. The dots follow the COMMIT
     in the same thread, with no network round trip in between, written while the
     sockets are corked (TCP_CORK), so writing them wakes nobody up; data queued on a
     socket before the kill is still sent by the kernel, so the server accepts them.
     Beat's dispatch marks a handed-over row whose claim went stale "sent", with
     ``IN_DOUBT`` in its ``error``.
   The only window is between the COMMIT returning and the last ``send(".\r\n")``:
   a few system calls in one process, a small part of the time a group takes. A kill landing
   exactly there loses the messages of that group whose dot was not yet queued — at
   most one group (``CAMPAIGN_SMTP_CONNECTIONS`` messages; set it to 1 for at most one
   message, at a fraction of the speed) per killed worker, never a duplicate, and the
   rows say so. Sending first and committing after would turn that window into
   duplicates instead, and widen it by a whole SMTP round trip. (One commit per message
   would cap each worker at one fsync per message.)
4. *Two workers never send one row*: the hand-over of step 2 only takes rows still
   carrying this worker's claim, under the row lock a re-claim also needs; so a claim
   and a hand-over serialise, and a worker whose claim was taken over finds its
   timestamp gone, writes no "." and moves on.
5. *Celery redelivery* (acks_late + reject_on_worker_lost): a redelivered batch task is
   just another claimer; it can only send rows that are pending or stale. Tasks carry a
   campaign id only.

Throughput (bench/campaign.py): per batch, the kind's values (referral links) are read
in O(1) queries and the two templates are rendered once with markers; per message only
strings are joined and the MIME text is written directly (``render.email_bytes``).
Sockets run with TCP_NODELAY: otherwise the "." behind the body waits for a delayed ACK.

Every message also has a stable ``Message-ID`` (campaign and message ids), so in the
rare case above where an SMTP server's reply never came back (connection cut after the
``"."``), a relay or mailbox that deduplicates on Message-ID could absorb a resend; we
do not resend such a message (its row stays sent, its ``error`` says why).

Fatigue cap: counted per batch in one query over ``CampaignMessage.sent_at`` (rows sent
in the last 7 days plus rows in flight in other campaigns). Two campaigns claiming the
same advocate in the very same instant may both see them under the cap: a soft limit
by one email at most, accepted rather than locking advocates across campaigns.

Modules: ``tracking`` (signed links), ``render`` (placeholders, templates, MIME),
``claim`` (the row transitions above), ``smtp`` (the pipelined client), ``batch`` (one
batch: claim, then send in groups).
"""
