using System.CommandLine;
using Personalizer.Cli;

var root = new RootCommand("Personalizer command-line tools: offline evaluation and data generation.");
root.Subcommands.Add(RecsCommands.Create());
return root.Parse(args).Invoke();
