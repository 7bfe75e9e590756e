"""The marketing suppression list (GDPR Art. 21(3)): keyed hashes of who must not receive direct marketing.

* :mod:`.identifiers`: normalise an e-mail, phone or customer number and hash it with the installation key
  (pure);
* :mod:`.models`: the list's rows;
* :mod:`.operations`: add to the list (from an objection, from an erasure), check values against it;
* :mod:`.api`: ``POST /api/v1/suppression/check`` for Harmony's marketing system;
* :mod:`.commands`: ``flask dsr suppression-check`` for a marketing import file.
"""
