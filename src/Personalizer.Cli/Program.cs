using System.CommandLine;
using Personalizer.Cli;

var root = new RootCommand("Personalizer command-line tools: offline evaluation and data generation.");
root.Subcommands.Add(RecsCommands.Create());
root.Subcommands.Add(EventsCommands.Create());
root.Subcommands.Add(ClvCommands.Create());
return root.Parse(args).Invoke();
