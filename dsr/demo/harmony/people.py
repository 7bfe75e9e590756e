"""Synthetic people for the demo systems: Dutch, Belgian (French-speaking) and British customers.

The mix follows Harmony's market: about 60% nl_NL, the rest fr_BE and en_GB, each with an address, phone
number and bank country of their own country and a preferred language for letters (nl, fr, en). Faker's
fr_BE locale only has person names; its addresses and phone numbers fall back to American ones, so Belgian
addresses and phone numbers come from nl_BE (Belgian postcodes, municipalities, +32 numbers) with French
street types.

Every draw comes from Faker instances and a ``random.Random`` seeded by the caller, so a seed gives the
same people on every run.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from faker import Faker

# (Faker locale, country, letter language, weight)
LOCALES = (("nl_NL", "NL", "nl", 60), ("fr_BE", "BE", "fr", 25), ("en_GB", "GB", "en", 15))
_DOMAINS = {
    "NL": ("gmail.com", "hotmail.com", "outlook.com", "ziggo.nl", "kpnmail.nl", "live.nl", "xs4all.nl"),
    "BE": ("gmail.com", "hotmail.com", "outlook.com", "telenet.be", "skynet.be", "proximus.be"),
    "GB": ("gmail.com", "hotmail.co.uk", "outlook.com", "btinternet.com", "yahoo.co.uk"),
}
_FR_STREET_TYPES = ("Rue", "Avenue", "Chaussée", "Boulevard", "Place", "Clos")


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    gender: str
    date_of_birth: date
    street: str
    house_number: str
    postcode: str
    city: str
    country: str
    email: str
    phone: str
    language: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def account_holder(self) -> str:
        """The name a Dutch or Belgian bank prints on the account: initial and surname."""
        return f"{self.first_name[0]}. {self.last_name}"

    @property
    def address_line(self) -> str:
        return f"{self.street} {self.house_number}, {self.postcode} {self.city}, {self.country}"


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum())


class PersonFactory:
    """Draws people; e-mail addresses are unique across everyone it has made."""

    def __init__(self, seed: int, rng: random.Random) -> None:
        self._rng = rng
        self._fakers = {loc: Faker(loc) for loc, *_ in LOCALES}
        self._belgium = Faker("nl_BE")
        for offset, fake in enumerate([*self._fakers.values(), self._belgium]):
            fake.seed_instance(seed + offset)
        self._emails: set[str] = set()

    def person(self, today: date) -> Person:
        rng = self._rng
        locale, country, language, _w = rng.choices(LOCALES, weights=[w for *_x, w in LOCALES])[0]
        fake = self._fakers[locale]
        gender = rng.choices("FMX", weights=(49, 49, 2))[0]
        first = {"F": fake.first_name_female, "M": fake.first_name_male}.get(gender, fake.first_name)()
        last = fake.last_name()
        if country == "BE":
            street = f"{rng.choice(_FR_STREET_TYPES)} {fake.last_name()}"
            house, postcode, city = str(rng.randint(1, 240)), self._belgium.postcode(), self._belgium.city()
            phone = self._belgium.phone_number()
        else:
            street, house = fake.street_name(), fake.building_number()
            postcode, city, phone = fake.postcode(), fake.city(), fake.phone_number()
        age_days = rng.randint(18 * 365 + 5, 85 * 365)
        return Person(
            first_name=first, last_name=last, gender=gender,
            date_of_birth=today - timedelta(days=age_days),
            street=street, house_number=house, postcode=postcode, city=city, country=country,
            email=self._email(first, last, country), phone=phone, language=language,
        )

    def _email(self, first: str, last: str, country: str) -> str:
        rng = self._rng
        local = rng.choice((
            f"{_slug(first)}.{_slug(last)}",
            f"{_slug(first)[:1]}{_slug(last)}",
            f"{_slug(first)}{rng.randint(1, 99)}",
            f"{_slug(last)}.{_slug(first)}{rng.randint(60, 99)}",
        )) or "klant"
        domain = rng.choice(_DOMAINS[country])
        address, n = f"{local}@{domain}", 1
        while address in self._emails:
            n += 1
            address = f"{local}{n}@{domain}"
        self._emails.add(address)
        return address
