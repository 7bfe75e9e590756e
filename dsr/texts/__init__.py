"""Texts for the subject (issue 14, item 2): what a letter quotes, in the letter's language, apart from staff notes."""
