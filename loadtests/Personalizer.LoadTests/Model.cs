namespace Personalizer.LoadTests;

/// <summary>How load is applied during one phase of a scenario.</summary>
internal abstract record LoadSimulation(TimeSpan During)
{
    public abstract string Describe();
}

/// <summary>Open model: requests start at a fixed rate whatever the server does (no coordinated omission).</summary>
internal sealed record Inject(double Rate, TimeSpan During) : LoadSimulation(During)
{
    public override string Describe() => $"inject {Rate:0.#}/s for {During.TotalSeconds:0.#}s";
}

/// <summary>Open model with the rate moving linearly from one value to another.</summary>
internal sealed record RampingInject(double From, double To, TimeSpan During) : LoadSimulation(During)
{
    public override string Describe() => $"ramp {From:0.#}→{To:0.#}/s over {During.TotalSeconds:0.#}s";
}

/// <summary>Closed model: a fixed number of copies, each sending its next request when the last answered.</summary>
internal sealed record KeepConstant(int Copies, TimeSpan During) : LoadSimulation(During)
{
    public override string Describe() => $"keep {Copies} copies for {During.TotalSeconds:0.#}s";
}

/// <summary>One kind of request; returns whether it succeeded.</summary>
internal sealed record LoadStep(string Name, double Weight, Func<HttpClient, Random, CancellationToken, Task<bool>> Send);

internal sealed record Scenario(string Name, IReadOnlyList<LoadStep> Steps, IReadOnlyList<LoadSimulation> Simulations, TimeSpan WarmUp);
