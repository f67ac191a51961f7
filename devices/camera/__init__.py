"""Overhead camera door counter: capture, pure line-crossing analysis, scene generator.

`analysis.LineCounter` is the pure core (frames in, crossings out); `capture.FrameSource`
and `counter.CameraCounter` are the threaded shell; `scene` renders test videos with
ground truth. Nothing here imports the edge, sync or kiosk packages.
"""
