"""The clients' cut copy of botocore's endpoint table (bulkimport.adapters.aws): still botocore's own entries,
and every endpoint of our services resolved as with the whole table, in every partition and region."""

import json

import boto3
import botocore.session
import pytest
from botocore.regions import EndpointResolver

from bulkimport.adapters import aws
from tools.trim_endpoints import trimmed_endpoints

VARIANTS = [
    {},
    {"use_fips_endpoint": True},
    {"use_dualstack_endpoint": True},
    {"use_fips_endpoint": True, "use_dualstack_endpoint": True},
]


def _whole_table() -> dict:
    return botocore.session.get_session().get_component("data_loader").load_data("endpoints")


def _regions(table: dict) -> list[str]:
    regions = {"xx-newregion-1", "cn-newregion-1", "us-gov-newregion-1"}  # regions botocore does not know yet
    for partition in table["partitions"]:
        regions |= set(partition["regions"])
        for service in partition["services"].values():
            regions |= set(service.get("endpoints", {}))
    return sorted(regions)


def _resolved(resolver: EndpointResolver, prefix: str, region: str, variant: dict):
    """The endpoint the resolver builds, or the error it raises (a variant a service lacks)."""
    try:
        return resolver.construct_endpoint(prefix, region, **variant)
    except Exception as error:  # noqa: BLE001 - the same error either way is the expected outcome
        return type(error).__name__, str(error)


def test_the_copy_is_botocore_s_table_cut_to_our_services():
    # Fails after a botocore upgrade that changes these entries: run tools/trim_endpoints.py.
    assert json.loads(aws.ENDPOINTS_FILE.read_text()) == trimmed_endpoints()
    partitions = json.loads(aws.ENDPOINTS_FILE.read_text())["partitions"]
    assert set().union(*(p["services"] for p in partitions)) == {
        "dynamodb",
        "events",
        "s3",
        "scheduler",
        "sqs",
        "states",
    }
    assert [p["partition"] for p in partitions] == [p["partition"] for p in _whole_table()["partitions"]]


def test_every_endpoint_of_our_services_resolves_as_with_the_whole_table():
    whole, cut = _whole_table(), json.loads(aws.ENDPOINTS_FILE.read_text())
    full_resolver, cut_resolver = EndpointResolver(whole), EndpointResolver(cut)
    session = botocore.session.get_session()
    checked = 0
    for service in aws.SERVICES:
        prefix = session.get_service_model(service).endpoint_prefix
        for region in _regions(whole):
            for variant in VARIANTS:
                assert _resolved(cut_resolver, prefix, region, variant) == _resolved(
                    full_resolver, prefix, region, variant
                ), (service, region, variant)
                checked += 1
        for partition in ("aws", "aws-cn", "aws-us-gov"):
            assert cut_resolver.get_available_endpoints(prefix, partition) == full_resolver.get_available_endpoints(
                prefix, partition
            )
    assert checked > 1000


@pytest.mark.parametrize(
    "region", ["us-east-1", "eu-west-1", "ap-northeast-1", "cn-north-1", "us-gov-west-1", "aws-global"]
)
def test_our_clients_reach_the_endpoints_plain_boto3_clients_reach(region, monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for service in aws.SERVICES:
        ours = aws.session().client(service, region_name=region)
        plain = boto3.session.Session().client(service, region_name=region)
        assert ours.meta.endpoint_url == plain.meta.endpoint_url, (service, region)
        assert ours.meta.region_name == plain.meta.region_name


def test_our_clients_load_the_copy_not_the_whole_table():
    loader = aws.session()._session.get_component("data_loader")
    assert loader.search_paths[0] == str(aws.DATA_PATH)
    assert len(loader.load_data("endpoints")["partitions"][0]["services"]) == 6


def test_a_client_for_another_service_is_refused():
    with pytest.raises(ValueError, match="SERVICES"):
        aws.client("iam")
