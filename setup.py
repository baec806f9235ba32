"""The build's one step beyond setuptools: the gettext catalogs compiled into
the wheel, so an installed portal carries its .mo files however it was built
(``make`` compiles them in place for a development checkout)."""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithCatalogs(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return
        for package in self.packages:
            if '.' in package:
                continue
            source = Path(self.get_package_dir(package))
            for po_file in sorted(source.glob('locale/*/LC_MESSAGES/*.po')):
                mo_file = Path(self.build_lib, package, po_file.relative_to(source)).with_suffix(
                    '.mo'
                )
                mo_file.parent.mkdir(parents=True, exist_ok=True)
                with po_file.open('rb') as stream:
                    catalog = read_po(stream, locale=po_file.parts[-3])
                with mo_file.open('wb') as stream:
                    write_mo(stream, catalog)


setup(cmdclass={'build_py': BuildPyWithCatalogs})
