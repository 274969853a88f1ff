using System.CommandLine;
using Fleetkey.Cli;

var parse = FleetkeyCommands.CreateRoot().Parse(args);
if (parse.Errors.Count > 0 && args.Length > 0)
{
    // A bad flag or value is one line each, as every other refusal, not the errors under a page of help
    // (`fleetkey COMMAND --help` shows it). Bare `fleetkey` still prints the help.
    foreach (var error in parse.Errors)
    {
        await Console.Error.WriteLineAsync($"fleetkey: {FleetkeyCommands.OneLine(error.Message)}");
    }

    return 2;
}

try
{
    return await parse.InvokeAsync(new InvocationConfiguration
    {
        // ASP.NET Core's console lifetime handles SIGINT/SIGTERM and drains requests; System.CommandLine must not race it.
        ProcessTerminationTimeout = null,
        EnableDefaultExceptionHandler = false,
    });
}
catch (OperationCanceledException)
{
    return 130;
}
catch (Exception exception)
{
    // What a command did not expect (a database that cannot be reached, a bug) is one line naming the
    // exception's type for a bug report, never a stack trace.
    await Console.Error.WriteLineAsync($"fleetkey: {FleetkeyCommands.OneLine(exception.Message)} ({exception.GetType().Name})");
    return 1;
}
