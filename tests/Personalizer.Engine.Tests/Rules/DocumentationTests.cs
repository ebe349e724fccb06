using Personalizer.Engine.Rules;

namespace Personalizer.Engine.Tests.Rules;

public sealed class DocumentationTests
{
    [Fact]
    public void DocsConditionsDescribesEveryFieldWithItsType()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Personalizer.sln")))
        {
            dir = dir.Parent;
        }
        var text = File.ReadAllText(Path.Combine(dir!.FullName, "docs", "conditions.md"));

        foreach (var field in Fields.All.Values.Concat(ItemFields.All.Values))
        {
            var type = field.Type switch
            {
                ConditionType.Number => "number",
                ConditionType.Text => "string",
                ConditionType.Bool => "true/false",
                _ => "list of strings",
            };
            Assert.Contains($"| `{field.Path}` | {type} |", text);
        }
    }
}
