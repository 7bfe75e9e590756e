"""Days declared equal to public holidays (Algemene termijnenwet art. 3(3)), kept by the privacy managers."""
