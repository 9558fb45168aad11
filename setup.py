"""The build compiles the translations: each `commands/locale/*/LC_MESSAGES/messages.po`
becomes the `.mo` beside it in the wheel (the `.po` is the source, committed; the `.mo` is
not). Everything else about the package is in pyproject.toml."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogues(build_py):
    def run(self) -> None:
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in sorted(Path("commands/locale").glob("*/LC_MESSAGES/*.po")):
            target = Path(self.build_lib) / po.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as source, target.open("wb") as out:
                write_mo(out, read_po(source), use_fuzzy=False)


setup(cmdclass={"build_py": BuildWithCatalogues})
