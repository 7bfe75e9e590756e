"""Information asked for and never received (issue 18, item 6): after ``PAUSE_ATTENTION_DAYS`` (default 30)
the case needs attention, and the privacy manager may close it because the subject could not be
identified or the request not understood (Art. 11(2), 12(2)), answered by the refusal letter, which then
says when the information was asked for and that none came."""
