"""Windowing (spec §1.2): chunks from each session's start, padding, labels, weights."""

from __future__ import annotations

import numpy as np
import pytest

from workers.engines.torch import MotionData, MotionDataError
from workers.model.windows import (
    class_list,
    encode_labels,
    make_chunks,
    real_window_index,
    window_table,
)

pytestmark = pytest.mark.unit


def rows(ids, labels=None, num_features=2):
    ids = np.asarray(ids)
    features = np.arange(1, len(ids) * num_features + 1, dtype=np.float32)  # no zero rows
    return MotionData(
        session_ids=ids,
        features=features.reshape(len(ids), num_features),
        feature_names=tuple(f"f{j}" for j in range(num_features)),
        targets=None if labels is None else np.asarray(labels),
    )


def test_majority_label_ties_go_to_the_lowest_class_index():
    # Window of 4 rows: two of class 2, two of class 1 → class 1. Next: 3 of class 2 → 2.
    data = rows(["s"] * 8, [2, 1, 2, 1, 2, 2, 0, 2])
    chunks = make_chunks(data, 4, data.targets, num_classes=3)
    assert chunks.labels[0, :2].tolist() == [1, 2]
    assert chunks.class_counts[0, 0].tolist() == [0, 2, 2]


def test_every_window_with_a_real_row_has_weight_one_and_padding_has_weight_zero():
    data = rows(["s"] * 7, [1] * 7)  # pw 3 → windows of 3, 3 and 1 real rows
    chunks = make_chunks(data, 3, data.targets, num_classes=2)
    assert chunks.window_rows[0, :4].tolist() == [3, 3, 1, 0]
    assert chunks.weights[0].tolist() == [1, 1, 1] + [0] * 17
    assert chunks.labels[0].tolist() == [1, 1, 1] + [0] * 17  # padded label slots hold 0


def test_rows_after_the_session_end_are_zero_padding():
    data = rows(["a"] * 5 + ["b"] * 3)
    chunks = make_chunks(data, 2)  # chunk = 40 rows
    assert chunks.features.shape == (2, 40, 2)
    np.testing.assert_array_equal(chunks.features[0, :5], data.features[:5])
    np.testing.assert_array_equal(chunks.features[1, :3], data.features[5:])
    assert not chunks.features[0, 5:].any() and not chunks.features[1, 3:].any()


def test_long_sessions_are_cut_into_chunks_from_their_first_row():
    data = rows(["a"] * 3 + ["b"] * 45)  # pw 2 → 40-row chunks: b makes 2 chunks
    chunks = make_chunks(data, 2)
    assert chunks.session_index.tolist() == [0, 1, 1]
    assert chunks.chunk_index.tolist() == [0, 0, 1]
    assert chunks.first_row.tolist() == [0, 3, 43]
    np.testing.assert_array_equal(chunks.features[2, :5], data.features[43:48])
    assert chunks.window_rows[2, :3].tolist() == [2, 2, 1]


def test_short_session_still_gets_one_window():
    data = rows(["a"] * 3)
    chunks = make_chunks(data, 10)
    assert chunks.num_chunks == 1
    assert chunks.window_rows[0, :2].tolist() == [3, 0]
    table = window_table(data, chunks)
    assert table["num_rows"].tolist() == [3]


def test_interleaved_ids_are_windowed_as_separate_sessions():
    data = rows(["a", "a", "a", "b", "b", "a", "a"])
    chunks = make_chunks(data, 2)
    table = window_table(data, chunks)
    assert table["session_id"].tolist() == ["a", "a", "b", "a"]
    assert table["window"].tolist() == [0, 1, 0, 0]  # the second run of 'a' starts again
    assert table["first_row"].tolist() == [0, 2, 3, 5]
    assert table["num_rows"].tolist() == [2, 1, 2, 2]


def test_window_table_uses_window_index_and_chunk_index_as_prediction_id():
    data = rows(["s"] * 45)  # pw 1 → 45 windows in 3 chunks
    table = window_table(data, make_chunks(data, 1))
    assert table["window"].tolist() == list(range(45))
    assert table["prediction_id"].tolist() == [0] * 20 + [1] * 20 + [2] * 5


def test_every_row_maps_to_the_window_that_contains_it():
    data = rows(["a"] * 5 + ["b"] * 4)
    chunks = make_chunks(data, 2)
    assert real_window_index(chunks).tolist() == [0, 0, 1, 1, 2, 3, 3, 4, 4]


def test_classes_are_sorted_and_ints_stay_ints():
    assert class_list(np.array([3, 1, 2, 1])) == [1, 2, 3]
    assert class_list(np.array(["walk", "Run", "sit"])) == ["Run", "sit", "walk"]
    assert isinstance(class_list(np.array([3, 1]))[0], int)


def test_unseen_label_is_rejected_with_the_label_and_row():
    with pytest.raises(MotionDataError, match=r"unexpected class label 'swim' .*row 2"):
        encode_labels(np.array(["run", "walk", "swim"]), ["run", "walk"], column="activity")
    with pytest.raises(MotionDataError, match="label type"):
        encode_labels(np.array([1, 2]), ["run", "walk"], column="activity")
