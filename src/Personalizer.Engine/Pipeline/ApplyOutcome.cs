using Personalizer.Engine.Configuration;

namespace Personalizer.Engine.Pipeline;

/// <summary>What applying one log record did.</summary>
public sealed class ApplyOutcome
{
    public int Applied { get; set; }
    public int Duplicates { get; set; }
    public bool Found { get; set; }
    public ConfigChangeResult Config { get; set; }
}
