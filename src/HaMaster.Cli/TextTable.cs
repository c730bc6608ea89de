namespace HaMaster.Cli;

/// <summary>Renders rows as a left-aligned text table with a header row; numbers are right-aligned.</summary>
public sealed class TextTable
{
    private readonly string[] _headers;
    private readonly List<string[]> _rows = [];

    public TextTable(params string[] headers) => _headers = headers;

    public int RowCount => _rows.Count;

    public TextTable AddRow(params string[] cells)
    {
        if (cells.Length != _headers.Length)
        {
            throw new ArgumentException($"Expected {_headers.Length} cells, got {cells.Length}.", nameof(cells));
        }

        _rows.Add(cells);
        return this;
    }

    public void WriteTo(TextWriter writer)
    {
        var widths = new int[_headers.Length];
        var numeric = new bool[_headers.Length];
        for (var c = 0; c < _headers.Length; c++)
        {
            widths[c] = _headers[c].Length;
            numeric[c] = _rows.Count > 0;
            foreach (var row in _rows)
            {
                widths[c] = Math.Max(widths[c], row[c].Length);
                numeric[c] &= row[c].Length == 0 || long.TryParse(row[c], out _) || double.TryParse(row[c], System.Globalization.CultureInfo.InvariantCulture, out _);
            }
        }

        WriteLine(writer, _headers, widths, numeric);
        foreach (var row in _rows)
        {
            WriteLine(writer, row, widths, numeric);
        }
    }

    private static void WriteLine(TextWriter writer, string[] cells, int[] widths, bool[] numeric)
    {
        var line = new System.Text.StringBuilder();
        for (var c = 0; c < cells.Length; c++)
        {
            if (c > 0)
            {
                line.Append("  ");
            }

            var last = c == cells.Length - 1;
            line.Append(numeric[c] ? cells[c].PadLeft(widths[c]) : last ? cells[c] : cells[c].PadRight(widths[c]));
        }

        writer.WriteLine(line.ToString().TrimEnd());
    }
}
