"""Image operations whose exact numerics a protocol depends on (MATLAB-compatible resizing)."""
