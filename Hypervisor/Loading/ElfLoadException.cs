namespace Hypervisor.Loading;

/// <summary>A guest image that cannot be loaded; the message says why, naming the file.</summary>
public sealed class ElfLoadException(string message) : Exception(message);
