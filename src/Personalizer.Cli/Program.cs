using System.CommandLine;
using Personalizer.Cli;

var root = new RootCommand("Personalizer command-line tools: offline evaluation, data generation, demo traffic and reports.");
root.Subcommands.Add(RecsCommands.Create());
root.Subcommands.Add(EventsCommands.Create());
root.Subcommands.Add(CatalogCommands.Create());
root.Subcommands.Add(DataCommands.Create());
root.Subcommands.Add(ClvCommands.Create());
root.Subcommands.Add(DemoCommands.Create());
root.Subcommands.Add(DemoCommands.CreateReports());
return root.Parse(args).Invoke();
