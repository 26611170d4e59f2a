"""What this copy of XinDesk was built for (the build record) and whether llama.cpp's native
libraries for that backend load on this machine."""
