"""The commercial registry (Ministry of Commerce): companies and who may act for them.

Two adapters with one interface:
- ``SampleRegistry`` reads ``sample_registry.json`` shipped with the package
  (the embedded default, works offline);
- ``HttpRegistry`` calls the registry's JSON service at a base URL.

Both answer ``company(cr_number)`` with a ``RegistryCompany`` or ``None`` and
``crs_for(civil_id)`` with the CR numbers that person is authorised for.
"""

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from importlib import resources

log = logging.getLogger(__name__)


class RegistryError(Exception):
    """The registry could not be reached or answered something unusable."""


class RegistryRecordError(RegistryError):
    """The registry answered for one company with a record the portal cannot
    use: that company's trouble, while the registry answers for the others."""


@dataclass(frozen=True)
class RegistryCompany:
    cr_number: str
    name_en: str
    name_ar: str
    address: str
    grade: str
    status: str  # "active", "suspended", "struck off" ...

    @property
    def is_active(self):
        return self.status == 'active'

    @classmethod
    def from_json(cls, data):
        try:
            return cls(
                cr_number=str(data['cr_number']),
                name_en=str(data['name_en']),
                name_ar=str(data['name_ar']),
                address=str(data['address']),
                grade=str(data['grade']),
                status=str(data['status']),
            )
        except (KeyError, TypeError) as exc:
            raise RegistryRecordError('malformed company record: %s' % exc) from exc


def load_sample_data():
    text = resources.files(__package__).joinpath('sample_registry.json').read_text('utf-8')
    return json.loads(text)


class SampleRegistry:
    def __init__(self, data=None):
        data = load_sample_data() if data is None else data
        self._companies = {c['cr_number']: RegistryCompany.from_json(c) for c in data['companies']}
        self._people = {p['civil_id']: tuple(p['crs']) for p in data['people']}

    def company(self, cr_number):
        return self._companies.get(str(cr_number))

    def crs_for(self, civil_id):
        return self._people.get(str(civil_id), ())


class HttpRegistry:
    """``GET {base}/companies/{cr}`` -> company object (404: unknown);
    ``GET {base}/people/{civil_id}/companies`` -> ``{"crs": [...]}``."""

    def __init__(self, base_url, timeout=5.0):
        self.base_url = base_url.rstrip('/')
        self.timeout = timeout

    def _get(self, path):
        url = self.base_url + path
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise RegistryError('registry answered HTTP %d for %s' % (exc.code, url)) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise RegistryError('registry unreachable at %s: %s' % (url, exc)) from exc
        except ValueError as exc:
            raise RegistryError('registry sent malformed JSON for %s' % url) from exc

    def company(self, cr_number):
        data = self._get('/companies/' + urllib.parse.quote(str(cr_number), safe=''))
        if data is None:
            return None
        if not isinstance(data, dict):
            raise RegistryRecordError('malformed company record')
        return RegistryCompany.from_json(data)

    def crs_for(self, civil_id):
        data = self._get('/people/%s/companies' % urllib.parse.quote(str(civil_id), safe=''))
        if data is None:
            return ()
        crs = data.get('crs') if isinstance(data, dict) else None
        if not isinstance(crs, list):
            raise RegistryError('malformed list of companies')
        return tuple(str(cr) for cr in crs)


def registry_from_settings(settings):
    url = settings.get('occi.registry.url', '').strip()
    if url:
        return HttpRegistry(url, float(settings.get('occi.registry.timeout', 5)))
    return SampleRegistry()
