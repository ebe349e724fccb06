using System.Diagnostics;

namespace Personalizer.Api.Tests.Operations;

/// <summary>The OpenAPI document passes Redocly's recommended lint with no error (the test command installs the linter).</summary>
public sealed class OpenApiLintTests : IDisposable
{
    private readonly PersonalizerApp _app = new();

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task TheOpenApiDocumentLintsWithoutErrors()
    {
        var folder = Path.Combine(Repository.Root, "tests", "openapi-lint");
        var linter = Path.Combine(folder, "node_modules", ".bin", "redocly");
        Assert.True(File.Exists(linter), $"The linter is not installed: run 'npm ci' in {folder} (the test command does).");
        var document = Path.Combine(_app.DataPath, "openapi.json");
        Directory.CreateDirectory(_app.DataPath);
        await File.WriteAllTextAsync(document, await _app.Client(null).GetStringAsync("/openapi/v1.json"));

        var info = new ProcessStartInfo(linter) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["lint", document, "--config", Path.Combine(folder, "redocly.yaml"), "--format", "stylish"])
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, output);
        Assert.DoesNotContain(" error ", output, StringComparison.Ordinal);
    }
}
