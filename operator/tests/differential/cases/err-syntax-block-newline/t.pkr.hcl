source "null"
{
}
