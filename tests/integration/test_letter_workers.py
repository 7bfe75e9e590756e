"""Letters made by real RQ workers (issue 5, item 5): two workers at once on one case and kind number the
versions 1..n without a gap or a clash, and every stored file matches its SHA-256.

Runs the real ``flask --app wsgi dsr worker --burst`` twice in parallel against DSR_TEST_REDIS_URL and the
test database (SQLite file and PostgreSQL schema).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest
import sqlalchemy as sa

from dsr.domain.enums import JobStatus, Role
from dsr.extensions import db
from dsr.jobs import runner
from dsr.jobs.models import Job
from dsr.letters import operations
from dsr.letters.kinds import LetterKind, LetterLanguage
from dsr.letters.models import IssuedLetter
from tests.conftest import NOW
from tests.factories import make_case, make_user
from tests.jobs_support import ROOT, needs_redis, on_redis, worker_env
from tests.storage_support import path_for

LETTERS = 6


@needs_redis
@pytest.mark.redis
def test_two_workers_issue_letters_of_one_case_with_distinct_versions(ctx):
    staff = make_user(Role.STAFF)
    case = make_case(actor=staff)
    with on_redis(ctx) as queue:
        jobs = [operations.request_letter(case, LetterKind.ACKNOWLEDGEMENT, LetterLanguage.EN, actor=staff, now=NOW)
                for _ in range(LETTERS)]
        db.session.commit()
        for job in jobs:
            runner.dispatch(job)
        env = worker_env(ctx, queue)
        workers = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "dsr", "worker", "--burst"],
                                    cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                   for _ in range(2)]
        outputs = [w.communicate(timeout=300)[0] for w in workers]
        assert [w.returncode for w in workers] == [0, 0], outputs
    db.session.expire_all()
    statuses = {j.id: (j.status, j.error) for j in db.session.scalars(sa.select(Job))}
    assert all(status is JobStatus.SUCCEEDED for status, _ in statuses.values()), statuses
    letters = db.session.scalars(sa.select(IssuedLetter).order_by(IssuedLetter.version)).all()
    assert [letter.version for letter in letters] == list(range(1, LETTERS + 1))
    assert {letter.job_id for letter in letters} == {j.id for j in jobs}
    for letter in letters:
        assert hashlib.sha256(path_for(letter).read_bytes()).hexdigest() == letter.sha256
    stored = sorted(p.name for p in (path_for(letters[0]).parent).iterdir())
    assert stored == sorted(path_for(letter).name for letter in letters)
