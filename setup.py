"""What the wheel holds beside pyproject.toml's metadata: the packages `registry` and `projections`,
and the SQL migrations, kept in `migrations/` at the top of the tree and shipped as the package
`modelog_migrations`, so that an installed server finds them (importlib.resources) wherever it runs.
(pyproject.toml alone cannot map one package to its own folder while finding the others.)"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["registry", "registry.*", "projections",
                                               "projections.*"]),
              "modelog_migrations"],
    package_dir={"modelog_migrations": "migrations"},
)
