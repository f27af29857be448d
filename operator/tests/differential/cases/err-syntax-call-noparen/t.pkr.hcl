a = f::g
