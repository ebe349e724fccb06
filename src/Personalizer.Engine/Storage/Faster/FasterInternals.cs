using System.Runtime.CompilerServices;
using FASTER.core;

namespace Personalizer.Engine.Storage.Faster;

/// <summary>
/// FASTER members its public API reads but does not let us set. <see cref="ReadOptions.StopAddress"/> is a public
/// property with an internal setter in FASTER 2.6.5: a read given one searches only the records at or above it, which
/// is what FASTER's own compaction uses to tell a live record from an old one without reading it again. Were a later
/// FASTER to ignore it, the read would find the compacted record itself and count it as newer; the compaction tests
/// (live profiles kept, deleted and overwritten ones not brought back) fail then.
/// </summary>
internal static class FasterInternals
{
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_StopAddress")]
    public static extern void SetStopAddress(ref ReadOptions options, long address);
}
