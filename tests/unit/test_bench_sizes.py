"""The benchmark's pure parts: DynamoDB item sizes and the -X importtime reader."""

from __future__ import annotations

from dlrhub_measure.bench.import_profile import parse
from dlrhub_measure.item_size import item_size, number_size, write_units


def test_item_size_counts_names_and_values_as_dynamodb_does() -> None:
    assert item_size({"pk": {"S": "abc"}}) == 2 + 3
    assert item_size({"n": {"N": "12345"}}) == 1 + 4  # 5 significant digits: 3 bytes, plus 1
    assert number_size("-0.00120") == 2  # leading and trailing zeros do not count
    assert item_size({"ok": {"BOOL": True}, "no": {"NULL": True}}) == 2 + 1 + 2 + 1
    # a map: 3 bytes, then per element 1 byte, its name and its value
    assert item_size({"m": {"M": {"ab": {"S": "xyz"}}}}) == 1 + 3 + 1 + 2 + 3
    # a list: 3 bytes, then per element 1 byte and its value
    assert item_size({"l": {"L": [{"S": "a"}, {"N": "7"}]}}) == 1 + 3 + (1 + 1) + (1 + 2)
    assert item_size({"é": {"S": "€"}}) == 2 + 3  # UTF-8 bytes


def test_write_units_round_up_per_kilobyte() -> None:
    assert [write_units(size) for size in (0, 1, 1024, 1025, 2048, 2049)] == [1, 1, 1, 2, 2, 3]


def test_importtime_lines_are_read_with_their_depth() -> None:
    stderr = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       150 |        150 |     botocore.compat\n"
        "import time:      2000 |       2150 |   boto3\n"
        "import time:     30000 |      32150 | app\n"
    )
    found = {entry.module: entry for entry in parse(stderr)}
    assert found["app"].self_ms == 30.0
    assert found["app"].cumulative_ms == 32.15
    assert (found["app"].depth, found["boto3"].depth, found["botocore.compat"].depth) == (0, 1, 2)
