"""Rectification (GDPR Art. 16): corrections proposed, applied to Harmony's systems or refused. The notices
to recipients it owes (Art. 19) are :mod:`dsr.notices`'s; it registers the data it changed there."""
