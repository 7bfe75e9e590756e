"""Direct transmission of portable data to another controller (Art. 20(2); issue 18, item 7): the receiving
controller, the channel and the date are recorded on the case, and the portability letter says so."""
