using System.Globalization;
using System.Text;

namespace Fleetkey.Templates;

/// <summary>
/// Where a template node is, for error messages: <c>Resources.thing.Properties.ThingGroups[1].Ref</c>.
/// Built as a chain of links and turned into text only when an error names it, so that evaluating a
/// node costs the same whatever its depth and key lengths (a path string per node would make a 10 KB
/// template with long keys allocate its length squared).
/// </summary>
internal sealed class TemplatePath
{
    /// <summary>Keys longer than this are cut in messages: the path must not drown the error.</summary>
    private const int MaxShownKeyLength = 64;

    /// <summary>Paths longer than this are cut in messages (only their end is shown).</summary>
    private const int MaxShownLength = 512;

    /// <summary>The template as a whole, shown as <c>""</c>.</summary>
    public static readonly TemplatePath Root = new(null, "", -1);

    private readonly TemplatePath? _parent;
    private readonly string? _name;
    private readonly int _index;

    private TemplatePath(TemplatePath? parent, string? name, int index)
    {
        _parent = parent;
        _name = name;
        _index = index;
    }

    /// <summary>A path given as text: a section name, or <c>$parameters.Name</c> for the caller's parameters.</summary>
    public static TemplatePath FromString(string text) => text.Length == 0 ? Root : new(null, text, -1);

    public static implicit operator TemplatePath(string text) => FromString(text);

    public TemplatePath Child(string name) => new(this, name, -1);

    public TemplatePath Item(int index) => new(this, null, index);

    public override string ToString()
    {
        var links = new Stack<TemplatePath>();
        for (var link = this; link is not null; link = link._parent)
        {
            links.Push(link);
        }

        var text = new StringBuilder();
        foreach (var link in links)
        {
            if (link._name is { } name)
            {
                if (name.Length == 0)
                {
                    continue;
                }

                if (text.Length > 0)
                {
                    text.Append('.');
                }

                // A root given as text is shown as given (its maker shortened what needed it).
                text.Append(name.Length <= MaxShownKeyLength || link._parent is null ? name : string.Concat(name.AsSpan(0, MaxShownKeyLength), "…"));
            }
            else
            {
                text.Append('[').Append(link._index.ToString(CultureInfo.InvariantCulture)).Append(']');
            }
        }

        return text.Length <= MaxShownLength ? text.ToString() : string.Concat("…", text.ToString(text.Length - MaxShownLength, MaxShownLength));
    }
}
