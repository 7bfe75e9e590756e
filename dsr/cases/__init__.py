"""Cases: one request from one person, with one or more rights, its clock and its history."""
