"""MotionData: building it from columns, and the errors a user sees for bad input."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from workers.engines.torch import MotionData, MotionDataError

pytestmark = pytest.mark.unit


def columns(**overrides):
    base = {
        "session": ["a", "a", "a", "b", "b"],
        "x": [1.0, 2.0, 3.0, 4.0, 5.0],
        "y": [0.5, 0.5, 0.5, 0.5, 0.5],
        "label": ["walk", "walk", "run", "run", "run"],
    }
    return {**base, **overrides}


def test_features_default_to_every_other_column_in_column_order():
    data = MotionData.from_columns(
        {"y": [1, 2], "session": ["s", "s"], "label": [0, 1], "x": [3, 4]},
        session_id="session",
        target="label",
    )
    assert data.feature_names == ("y", "x")
    np.testing.assert_array_equal(data.features, [[1, 3], [2, 4]])
    assert data.features.dtype == np.float32


def test_pyarrow_table_and_plain_mapping_give_the_same_data():
    from_mapping = MotionData.from_columns(columns(), session_id="session", target="label")
    from_table = MotionData.from_columns(pa.table(columns()), session_id="session", target="label")
    np.testing.assert_array_equal(from_mapping.features, from_table.features)
    np.testing.assert_array_equal(from_mapping.targets, from_table.targets)
    np.testing.assert_array_equal(from_mapping.session_ids, from_table.session_ids)


def test_missing_feature_value_names_the_column_and_row():
    with pytest.raises(MotionDataError, match=r"'x' at row 2"):
        MotionData.from_columns(
            columns(x=[1.0, 2.0, None, 4.0, 5.0]), session_id="session", target="label"
        )


def test_null_in_a_pyarrow_column_names_the_column_and_row():
    table = pa.table(columns(y=[0.5, None, 0.5, 0.5, 0.5]))
    with pytest.raises(MotionDataError, match=r"missing value .* 'y' at row 1"):
        MotionData.from_columns(table, session_id="session", target="label")


def test_nan_and_infinite_features_are_rejected():
    with pytest.raises(MotionDataError, match=r"NaN.*'x' at row 0"):
        MotionData.from_columns(
            columns(x=[np.nan, 2.0, 3.0, 4.0, 5.0]), session_id="session", target="label"
        )
    with pytest.raises(MotionDataError, match=r"non-finite.*'y' at row 4"):
        MotionData.from_columns(
            columns(y=[0.5, 0.5, 0.5, 0.5, np.inf]), session_id="session", target="label"
        )


def test_missing_columns_are_named_with_the_columns_that_exist():
    with pytest.raises(MotionDataError, match=r"missing column\(s\) \['wrong'\]"):
        MotionData.from_columns(columns(), session_id="session", target="wrong")
    with pytest.raises(MotionDataError, match=r"\['z'\].*has columns"):
        MotionData.from_columns(columns(), session_id="session", target="label", features=["z"])


def test_non_numeric_feature_column_is_rejected():
    with pytest.raises(MotionDataError, match=r"'label' must be numeric"):
        MotionData.from_columns(columns(), session_id="session", target=None)


def test_empty_data_is_rejected():
    empty = {"session": [], "x": [], "label": []}
    with pytest.raises(MotionDataError, match="no rows"):
        MotionData.from_columns(empty, session_id="session", target="label")


def test_float_session_ids_are_rejected():
    with pytest.raises(MotionDataError, match="strings or integers"):
        MotionData.from_columns(
            columns(session=[1.5, 1.5, 1.5, 2.5, 2.5]), session_id="session", target="label"
        )


def test_features_must_be_a_list_of_names():
    with pytest.raises(TypeError, match="list of column names"):
        MotionData.from_columns(columns(), session_id="session", target="label", features="x")
    with pytest.raises(MotionDataError, match="empty"):
        MotionData.from_columns(columns(), session_id="session", target="label", features=[])


def test_interleaved_ids_count_as_separate_sessions():
    # Turi Create counts contiguous runs: 2 ids alternating in blocks of 10 → 20 sessions.
    ids = np.tile(np.repeat(["A", "B"], 10), 10)  # 200 rows
    data = MotionData(
        session_ids=ids, features=np.zeros((200, 1), np.float32), feature_names=("x",)
    )
    assert data.num_sessions == 20
    np.testing.assert_array_equal(data.session_lengths, [10] * 20)
    np.testing.assert_array_equal(data.session_starts, np.arange(0, 200, 10))


def test_object_arrays_of_strings_become_string_labels():
    data = MotionData(
        session_ids=np.array(["s1", "s1", "s2"], dtype=object),
        features=np.zeros((3, 1), np.float32),
        feature_names=("x",),
        targets=np.array(["walk", "run", "run"], dtype=object),
    )
    assert data.session_ids.dtype.kind == "U"
    assert data.targets.tolist() == ["walk", "run", "run"]
    assert data.num_sessions == 2


def test_with_features_reorders_columns_and_names_missing_ones():
    data = MotionData.from_columns(columns(), session_id="session", target="label")
    swapped = data.with_features(["y", "x"])
    np.testing.assert_array_equal(swapped.features, data.features[:, ::-1])
    with pytest.raises(MotionDataError, match=r"missing feature column\(s\) \['z'\]"):
        data.with_features(["x", "z"])
