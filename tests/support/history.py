"""A history with every kind of event, made through the service: the rebuild, time-travel,
projection and read-path tests compare what the log folds to with what the read models say."""

import asyncio

import pytest

from registry.domain import DomainError
from registry.domain import commands as c
from registry.domain.events import PrivilegeChange
from registry.service.handler import RegistryService


async def make_history(svc: RegistryService) -> None:
    """Every kind of event, including deletes, renames and re-creations under an old name."""
    run = svc.execute
    await run(c.CreateCatalog(name="prod", comment="production"), "admin")
    await run(c.UpdateCatalog(name="prod", comment="prod models"), "admin")
    await run(c.CreateCatalog(name="scratch"), "admin")
    await run(c.CreateSchema(catalog_name="scratch", name="tmp"), "admin")
    await run(_grant("catalog", "scratch", "bob", "USE CATALOG"), "admin")  # ends with the catalog
    await run(c.DeleteSchema(catalog_name="scratch", name="tmp"), "admin")
    await run(c.DeleteCatalog(name="scratch"), "admin")
    await run(c.CreateSchema(catalog_name="prod", name="fraud", comment="fraud"), "admin")
    await run(c.UpdateSchema(catalog_name="prod", name="fraud", comment="fraud team"), "admin")
    for i in range(5):
        name = f"prod.fraud.m{i}"
        await run(c.CreateModel(full_name=name, description=f"model {i}", tags={"i": str(i)}),
                  "alice")
        await asyncio.gather(*(run(c.RegisterVersion(full_name=name, source=f"s3://{i}/{v}",
                                                     run_id=f"r{v}", tags={"v": str(v)}), "bob")
                               for v in range(4)))
        await run(c.FinalizeVersion(full_name=name, version=1), "bob")
        await run(c.FinalizeVersion(full_name=name, version=2, status="FAILED_REGISTRATION",
                                    status_message="bad"), "bob")
        await run(c.SetAlias(full_name=name, alias="champion", version=1), "carol")
        await run(c.SetAlias(full_name=name, alias="champion", version=3), "carol")
        await run(c.SetAlias(full_name=name, alias="challenger", version=4), "carol")
        await run(c.SetVersionTag(full_name=name, version=3, key="k", value="x"), "bob")
        await run(c.DeleteVersionTag(full_name=name, version=1, key="v"), "bob")
        await run(c.UpdateVersionDescription(full_name=name, version=3, description="d"), "bob")
        await run(c.DeleteVersion(full_name=name, version=4), "bob")  # drops 'challenger'
        await run(c.SetModelTag(full_name=name, key="owner-team", value="risk"), "alice")
        await run(c.DeleteModelTag(full_name=name, key="i"), "alice")
        await run(c.UpdateModelDescription(full_name=name, description="updated"), "alice")
    # Stage transitions: direct, and through requests approved, rejected, cancelled or left open.
    m4 = "prod.fraud.m4"
    await run(c.TransitionStage(full_name=m4, version=1, stage="Staging"), "carol")
    await run(c.RequestTransition(full_name=m4, version=3, stage="Production", comment="go"), "bob")
    await run(c.ApproveTransition(full_name=m4, version=3, stage="Production", comment="ok",
                                  archive_existing_versions=True), "carol")
    await run(c.RequestTransition(full_name=m4, version=1, stage="Production"), "bob")
    await run(c.RejectTransition(full_name=m4, version=1, stage="Production", comment="no"), "dan")
    await run(c.RequestTransition(full_name=m4, version=2, stage="Staging"), "bob")
    await run(c.CancelTransition(full_name=m4, version=2, stage="Staging"), "bob")
    await run(c.RequestTransition(full_name=m4, version=2, stage="Archived", comment="old"), "bob")
    await run(c.RenameModel(full_name="prod.fraud.m0", new_full_name="unity.default.m0"), "alice")
    await run(c.DeleteAlias(full_name="prod.fraud.m1", alias="champion"), "carol")
    # Grants and owners: changed, revoked, transferred, and gone with their object.
    await run(_grant("metastore", "metastore", "erin", "CREATE CATALOG"), "admin")
    await run(c.CreateCatalog(name="erins"), "erin")
    await run(_grant("catalog", "prod", "bob", "USE CATALOG", "USE SCHEMA"), "admin")
    await run(_grant("schema", "prod.fraud", "carol", "CREATE MODEL", "MANAGE"), "admin")
    await run(_grant("registered_model", "prod.fraud.m2", "dan", "EXECUTE"), "alice")
    await run(_grant("registered_model", "unity.default.m0", "dan", "EXECUTE", "APPLY TAG"), "alice")
    await run(c.UpdatePermissions(securable_type="registered_model", full_name="unity.default.m0",
                                  changes=[PrivilegeChange(principal="dan", remove=["EXECUTE"])]),
              "alice")
    await run(c.TransferOwnership(securable_type="schema", full_name="prod.fraud", owner="carol"),
              "admin")
    await run(c.TransferOwnership(securable_type="registered_model", full_name="prod.fraud.m1",
                                  owner="dan"), "alice")
    await run(c.DeleteModel(full_name="prod.fraud.m2", force=True), "alice")
    await run(c.CreateModel(full_name="prod.fraud.m2", description="second life"), "alice")
    with pytest.raises(DomainError):
        await run(c.DeleteModel(full_name="prod.fraud.m3"), "alice")  # has versions, no force
    # Catalog and schema renames carry what is inside along; the old name is then re-used.
    await run(c.CreateCatalog(name="lab"), "admin")
    await run(c.CreateSchema(catalog_name="lab", name="cv"), "admin")
    await run(c.CreateModel(full_name="lab.cv.x"), "alice")
    await run(c.RegisterVersion(full_name="lab.cv.x", source="s3://x/1"), "bob")
    await run(c.SetAlias(full_name="lab.cv.x", alias="champion", version=1), "carol")
    await run(_grant("catalog", "lab", "dan", "USE CATALOG"), "admin")
    await run(_grant("schema", "lab.cv", "dan", "USE SCHEMA"), "admin")
    await run(c.RenameCatalog(name="lab", new_name="labs"), "admin")
    await run(c.RenameSchema(catalog_name="labs", name="cv", new_name="vision"), "admin")
    await run(c.UpdateSchema(catalog_name="labs", name="vision", comment="renamed"), "admin")
    await run(c.CreateCatalog(name="lab", comment="a new one"), "admin")
    await run(c.CreateSchema(catalog_name="lab", name="cv"), "admin")


def _grant(securable_type: str, full_name: str, principal: str, *add: str) -> c.UpdatePermissions:
    return c.UpdatePermissions(securable_type=securable_type, full_name=full_name,
                               changes=[PrivilegeChange(principal=principal, add=list(add))])
