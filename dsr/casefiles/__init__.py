"""dsr's own retention: closed case files are reduced after a set period (issue 18, item 8).

``CASE_FILE_RETENTION_YEARS`` (default 2) after closure, unless a hold on the file, an open complaint, a
legal hold placed from the case or kept records still to be erased keep it. The daily ``reduce_case_files``
run (scheduler, or ``flask --app wsgi dsr reduce-case-files`` from cron) does it; the dashboard lists
what is due and what is kept.
"""
