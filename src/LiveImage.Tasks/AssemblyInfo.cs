// Live images are built with Linux tools (mmdebstrap, namespaces, overlayfs): the tasks run on Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
