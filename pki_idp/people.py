"""The test people whose civil ID cards and PKI SIM cards the development IdP simulates."""

import json
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Person:
    civil_id: str
    pin: str
    mobile: str
    name_en: str
    name_ar: str

    def name(self, language):
        return self.name_ar if language == 'ar' else self.name_en


class People:
    """The test people, found by civil ID (the card) or by mobile number (the SIM)."""

    def __init__(self, people):
        self.all = tuple(people)
        self._by_civil_id = {person.civil_id: person for person in self.all}
        self._by_mobile = {person.mobile: person for person in self.all}

    @classmethod
    def bundled(cls):
        text = resources.files(__package__).joinpath('people.json').read_text(encoding='utf-8')
        return cls(Person(**entry) for entry in json.loads(text))

    def by_civil_id(self, civil_id):
        return self._by_civil_id.get(civil_id)

    def by_mobile(self, mobile):
        return self._by_mobile.get(normalise_mobile(mobile))


def ascii_digits(text):
    """The decimal digits of `text` as ASCII, so Arabic-Indic digits typed in Arabic count too."""
    return ''.join(str(int(character)) for character in text or '' if character.isdecimal())


def normalise_mobile(number):
    """An Omani mobile number as its 8 local digits, accepting +968 / 00968 and spaces."""
    digits = ascii_digits(number)
    for prefix in ('00968', '968'):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 8:
            return digits[len(prefix) :]
    return digits
