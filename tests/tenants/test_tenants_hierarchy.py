"""The tenant's hierarchy tree: materialised paths, moves and subtree queries (spec 1.1)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from kvit.tenants.models import HierarchyNode, Tenant

pytestmark = pytest.mark.django_db


def fresh(node: HierarchyNode) -> HierarchyNode:
    return HierarchyNode.objects.get(pk=node.pk)


@pytest.fixture
def tree(make: Any, tenant: Tenant) -> dict[str, HierarchyNode]:
    """region ─┬─ district ── feeder ── substation
    └─ other_district"""
    region = make.node(tenant, kind="region")
    district = make.node(tenant, region, kind="district")
    feeder = make.node(tenant, district, kind="feeder")
    substation = make.node(tenant, feeder, kind="substation")
    other = make.node(tenant, region, kind="district")
    return {
        "region": region,
        "district": district,
        "feeder": feeder,
        "substation": substation,
        "other_district": other,
    }


def test_a_root_path_is_its_own_id(make: Any, tenant: Tenant) -> None:
    root = make.node(tenant)
    assert root.path == f"/{root.pk}/"
    assert fresh(root).path == f"/{root.pk}/"


def test_paths_chain_the_ancestor_ids(tree: dict[str, HierarchyNode]) -> None:
    region, district = tree["region"], tree["district"]
    feeder, substation = tree["feeder"], tree["substation"]
    assert fresh(substation).path == f"/{region.pk}/{district.pk}/{feeder.pk}/{substation.pk}/"
    assert fresh(tree["other_district"]).path == f"/{region.pk}/{tree['other_district'].pk}/"


def test_descendants_is_the_subtree_including_the_node(tree: dict[str, HierarchyNode]) -> None:
    district = fresh(tree["district"])
    assert set(district.descendants()) == {tree["district"], tree["feeder"], tree["substation"]}
    assert set(fresh(tree["region"]).descendants()) == set(tree.values())
    assert list(fresh(tree["substation"]).descendants()) == [tree["substation"]]


def test_moving_a_subtree_rewrites_every_descendant(tree: dict[str, HierarchyNode]) -> None:
    feeder = fresh(tree["feeder"])
    feeder.parent = tree["other_district"]
    feeder.full_clean()
    feeder.save()
    other = tree["other_district"]
    region = tree["region"]
    assert fresh(feeder).path == f"/{region.pk}/{other.pk}/{feeder.pk}/"
    assert fresh(tree["substation"]).path == (
        f"/{region.pk}/{other.pk}/{feeder.pk}/{tree['substation'].pk}/"
    )
    assert set(fresh(other).descendants()) == {other, feeder, tree["substation"]}
    assert set(fresh(tree["district"]).descendants()) == {tree["district"]}


def test_moving_to_the_root_and_back(tree: dict[str, HierarchyNode]) -> None:
    district = fresh(tree["district"])
    district.parent = None
    district.save()
    assert fresh(tree["substation"]).path == (
        f"/{district.pk}/{tree['feeder'].pk}/{tree['substation'].pk}/"
    )
    assert tree["district"] not in fresh(tree["region"]).descendants()


def test_saving_without_a_move_keeps_the_paths(tree: dict[str, HierarchyNode]) -> None:
    before = {n.pk: n.path for n in HierarchyNode.objects.all()}
    district = fresh(tree["district"])
    district.name = "Renamed"
    district.save()
    assert {n.pk: n.path for n in HierarchyNode.objects.all()} == before


def test_a_node_cannot_move_under_its_own_subtree(
    tree: dict[str, HierarchyNode], clean_errors: Any
) -> None:
    district = fresh(tree["district"])
    district.parent = tree["substation"]
    assert clean_errors(district) == {"parent": ["A node cannot be moved under its own subtree."]}
    district.parent = district
    assert "parent" in clean_errors(district)


def test_the_parent_must_belong_to_the_same_tenant(
    make: Any, tenant: Tenant, other_tenant: Tenant, clean_errors: Any
) -> None:
    foreign = make.node(other_tenant)
    node = HierarchyNode(tenant=tenant, parent=foreign, kind="feeder", code="f1", name="F1")
    assert clean_errors(node) == {"parent": ["The parent belongs to another organisation."]}


def test_codes_are_unique_per_tenant(
    make: Any, tenant: Tenant, other_tenant: Tenant, clean_errors: Any
) -> None:
    make.node(tenant, code="north")
    make.node(other_tenant, code="north")  # another tenant may reuse it
    duplicate = HierarchyNode(tenant=tenant, kind="district", code="north", name="North 2")
    assert "__all__" in clean_errors(duplicate)
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_a_parent_with_children_cannot_be_deleted(tree: dict[str, HierarchyNode]) -> None:
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        tree["feeder"].delete()
