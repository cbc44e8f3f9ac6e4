"""The CPU ``motion`` engine: camera moves over a still, and flow morphs between two frames."""

from conch.engines.motion.engine import MotionEngine

__all__ = ["MotionEngine"]
