import pytest

from shequ.queueing.demo import setup_centre


@pytest.fixture
def demo_centre(demo):
    """五里桥街道's centre as the demo has it: categories A-F and windows 1-8."""
    return setup_centre()
