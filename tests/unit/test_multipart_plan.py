"""The parts a multipart upload is planned in: S3 refuses a part under 5 MiB but the last and more
than 10,000 parts, so no size from 5 MiB to 5 GiB may be planned so."""

from hypothesis import given
from hypothesis import strategies as st

from bulkimport.imports.multipart import MAX_PARTS, MIN_PART_BYTES, plan_parts

GiB = 1024**3


@given(st.integers(min_value=MIN_PART_BYTES, max_value=5 * GiB) | st.sampled_from([MIN_PART_BYTES, 5 * GiB]))
def test_every_part_but_the_last_is_5_mib_or_more_and_at_most_10000(size):
    part_size, part_count = plan_parts(size)
    assert part_size >= MIN_PART_BYTES and part_count <= MAX_PARTS
    last = size - (part_count - 1) * part_size
    assert 0 < last <= part_size


def test_a_5_gib_file_goes_in_1024_parts_of_5_mib():
    assert plan_parts(5 * GiB) == (MIN_PART_BYTES, 1024)
    assert plan_parts(MIN_PART_BYTES) == (MIN_PART_BYTES, 1)
