using System.CommandLine;

namespace Personalizer.Cli;

/// <summary><c>catalog import FILE</c>.</summary>
internal static class CatalogCommands
{
    public static Command Create()
    {
        var catalog = new Command("catalog", "A site's catalogue: import a product feed.");
        catalog.Subcommands.Add(ImportCommand.CreateCatalog());
        return catalog;
    }
}
