"""Art. 19 notices: the recipients of the subject's data are told of a rectification, erasure or restriction.

A feature of its own that the rights which change data use. A right registers the data its case changed
(:func:`dsr.notices.changes.register_change`: "on this case, these records were rectified / erased /
restricted", and the recipients those records named); :mod:`dsr.notices.operations` turns that into the
recipients to notify (from the privacy statement), records each as notified or not notifiable, and
registers the completion obligation "every recipient ticked" with :mod:`dsr.cases.obligations`.
:mod:`dsr.notices.views` draws the card on the case page; :mod:`dsr.notices.facts` gives the letters the
recipients as plain data. The package imports none of the rights it serves.
"""
