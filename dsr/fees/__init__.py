"""Fees for further copies (Art. 15(3), 12(5)(a); EDPB 01/2022 §§192-194; issue 18, item 5): the first copy
is free; a further copy may carry a reasonable fee based on administrative costs, the subject is warned
first with a letter, and the case waits until they agree or withdraw."""
