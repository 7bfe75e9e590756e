"""The demo's letter that came by post (issue 13, item 12): the customer's handwritten-looking request to be
erased, as the post room scans it (a PNG page), with what staff note about the original on paper."""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta

from PIL import Image, ImageDraw, ImageFont

from dsr.attachments.storage import CheckedUpload

PAPER_NOTE = ("Letter received by post and scanned (the scan is this case's). The original is filed in the paper "
              "archive, in the customer's file in the archive room (Rotterdam office).")
PAPER_DESTROYED = ("Destroyed in the archive room: the customer's file, with the original of the erasure request "
                   "received on {day} (1 page), the policy application form and two claim letters. The scan of "
                   "the request stays in this case file.")
BODY = {
    "nl": ["Geachte heer, mevrouw,", "",
           "Ik heb geen verzekering meer bij Harmony. Ik verzoek u",
           "al mijn persoonsgegevens te wissen (artikel 17 AVG),",
           "ook de brieven en formulieren in uw archief.", "",
           "Met vriendelijke groet,"],
    "en": ["Dear Sir or Madam,", "",
           "I no longer have a policy with Harmony. Please erase",
           "all my personal data (Article 17 GDPR), including the",
           "letters and forms you keep on paper.", "",
           "Yours faithfully,"],
    "fr": ["Madame, Monsieur,", "",
           "Je n'ai plus de contrat chez Harmony. Je vous demande",
           "d'effacer toutes mes données personnelles (article 17",
           "du RGPD), y compris les courriers de vos archives.", "",
           "Veuillez agréer mes salutations distinguées,"],
}
TO = ["Harmony Insurance Services B.V.", "t.a.v. Privacy", "Postbus 21460", "3001 AL Rotterdam"]


def paper_letter_scan(customer: dict, *, received_on: date) -> CheckedUpload:
    """One A5-sized page at 100 dpi, greyish as a scanner makes it: the sender, the date, the request."""
    lang = customer["language"] if customer["language"] in BODY else "nl"
    page = Image.new("L", (827, 1169), 246)
    draw = ImageDraw.Draw(page)
    font, small = ImageFont.load_default(size=24), ImageFont.load_default(size=20)
    y = 70
    sender = [customer["name"], customer["address"], f"{customer['postcode']} {customer['city']}",
              f"{customer['customer_number']}"]
    for line in sender:
        draw.text((70, y), line, fill=40, font=small)
        y += 28
    y += 30
    for line in TO:
        draw.text((430, y), line, fill=40, font=small)
        y += 28
    y += 40
    draw.text((70, y), (received_on - timedelta(days=2)).isoformat(), fill=40, font=small)
    y += 70
    for line in BODY[lang]:
        draw.text((70, y), line, fill=25, font=font)
        y += 36
    y += 20
    draw.line([(80, y + 30), (160, y), (220, y + 35), (300, y + 5)], fill=30, width=3)  # the signature
    draw.text((70, y + 60), customer["name"], fill=25, font=font)
    out = io.BytesIO()
    page.save(out, format="PNG", optimize=True)
    data = out.getvalue()
    return CheckedUpload(filename=f"scan-{received_on.isoformat()}-{customer['customer_number']}.png", data=data,
                         media_type="image/png", sha256=hashlib.sha256(data).hexdigest())
