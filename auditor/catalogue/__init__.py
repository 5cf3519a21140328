"""auditor/catalogue"""
