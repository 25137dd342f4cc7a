using Hypervisor.Machine;

namespace Hypervisor.Tests.Support;

/// <summary>The engines every guest test runs on.</summary>
public static class EngineMatrix
{
    public static readonly EngineKind[] All = [EngineKind.Interpreter, EngineKind.BinaryTranslator];
}
