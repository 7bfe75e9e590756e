"""Reading posted requests: a scanned letter read on this machine becomes suggestions for the intake form.

``engine`` turns a scan into words (tesseract, offline); :mod:`dsr.domain.letter_reading` finds the rights,
language and identifiers in them; ``operations`` keeps the scan and its reading, runs the reading as a job
and hands the scan to the case staff log; ``views`` shows the suggestions beside the scan on the intake page.
"""
