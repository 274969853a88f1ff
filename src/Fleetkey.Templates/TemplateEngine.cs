namespace Fleetkey.Templates;

public static class TemplateEngine
{
    public const int MaxTemplateLength = 10240;

    /// <summary>Evaluates a template against parameters; never throws for bad input, it reports errors.</summary>
    public static TemplateResult Evaluate(string templateBody, IReadOnlyDictionary<string, string>? parameters) =>
        throw new NotImplementedException();
}
