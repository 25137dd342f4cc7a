namespace Hypervisor.Cpu;

/// <summary>Synchronous exception codes (mcause with the interrupt bit clear), from the privileged spec.</summary>
public enum ExceptionCause : uint
{
    InstructionAddressMisaligned = 0,
    InstructionAccessFault = 1,
    IllegalInstruction = 2,
    Breakpoint = 3,
    LoadAddressMisaligned = 4,
    LoadAccessFault = 5,
    StoreAddressMisaligned = 6,
    StoreAccessFault = 7,
    EcallFromU = 8,
    EcallFromS = 9,
    EcallFromM = 11,
    InstructionPageFault = 12,
    LoadPageFault = 13,
    StorePageFault = 15,
}

/// <summary>Interrupt numbers: the bit in mip/mie and the mcause code with the interrupt bit set.</summary>
public static class InterruptBits
{
    public const int SupervisorSoftware = 1;
    public const int MachineSoftware = 3;
    public const int SupervisorTimer = 5;
    public const int MachineTimer = 7;
    public const int SupervisorExternal = 9;
    public const int MachineExternal = 11;

    public const uint Ssip = 1u << SupervisorSoftware;
    public const uint Msip = 1u << MachineSoftware;
    public const uint Stip = 1u << SupervisorTimer;
    public const uint Mtip = 1u << MachineTimer;
    public const uint Seip = 1u << SupervisorExternal;
    public const uint Meip = 1u << MachineExternal;

    /// <summary>The interrupt bit of mcause/scause.</summary>
    public const uint CauseInterruptFlag = 0x8000_0000;

    /// <summary>Take-order when several are pending and enabled (privileged spec 3.1.9).</summary>
    public static ReadOnlySpan<byte> PriorityOrder =>
        [MachineExternal, MachineSoftware, MachineTimer, SupervisorExternal, SupervisorSoftware, SupervisorTimer];
}

/// <summary>How memory is being accessed: selects the fault causes and the permission checked.</summary>
public enum AccessType : byte
{
    Fetch = 0,
    Load = 1,
    Store = 2,
}

/// <summary>Maps an access type to its access-fault, page-fault and misaligned causes.</summary>
public static class AccessFaults
{
    public static ExceptionCause AccessFault(AccessType t) => t switch
    {
        AccessType.Fetch => ExceptionCause.InstructionAccessFault,
        AccessType.Load => ExceptionCause.LoadAccessFault,
        _ => ExceptionCause.StoreAccessFault,
    };

    public static ExceptionCause PageFault(AccessType t) => t switch
    {
        AccessType.Fetch => ExceptionCause.InstructionPageFault,
        AccessType.Load => ExceptionCause.LoadPageFault,
        _ => ExceptionCause.StorePageFault,
    };

    public static ExceptionCause Misaligned(AccessType t) => t switch
    {
        AccessType.Fetch => ExceptionCause.InstructionAddressMisaligned,
        AccessType.Load => ExceptionCause.LoadAddressMisaligned,
        _ => ExceptionCause.StoreAddressMisaligned,
    };
}
