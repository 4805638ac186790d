"""Box operations and NMS in numpy and torch (no torchvision needed)."""
