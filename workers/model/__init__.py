"""What every engine and every export agrees on about the activity classifier, without torch.

- shape.py: the network's architecture constants (spec §2.1) and the streaming state size;
- windows.py: sessions → windows and chunks of 20 windows, the unit trained and predicted on;
- hyperparameters.py: the library's Hyperparameters and the per-iteration progress report.

NumPy only: the Turi Create engine, the exports and live streams import this, and none of them
should pay for torch (tests/workers/test_torch_free.py checks).
"""
